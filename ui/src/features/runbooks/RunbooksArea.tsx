import { areaById } from '../../app/areas';
import { NotBuiltYet } from '../../components/NotBuiltYet';

export function RunbooksArea() {
  return (
    <NotBuiltYet
      area={areaById('runbooks')}
      willDo="This area will turn the runbook's procedures into guided checklists that run the automatable steps and record every step."
      runbookProcedures={['Emergency Procedures', 'Troubleshooting Failed Deployments']}
    />
  );
}
